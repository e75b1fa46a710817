// finish_within(): how the daemon opens, starts and closes capture streams, which may hang in
// the sound libraries.
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>

#include "earshot/listen_deadline.hpp"

using earshot::listen::finish_within;
using namespace std::chrono_literals;

TEST_CASE("work that ends in time is waited for", "[listen]") {
  bool ran = false;
  CHECK(finish_within(10s, [&ran] { ran = true; }));
  CHECK(ran);  // joined: its effects are visible once finish_within returns
}

TEST_CASE("what the work throws reaches the caller", "[listen]") {
  CHECK_THROWS_WITH(finish_within(10s, [] { throw std::runtime_error("close failed"); }),
                    "close failed");
}

TEST_CASE("work past its deadline is abandoned and keeps running on its own", "[listen]") {
  // The work owns what it touches, as the daemon's abandoned stream does.
  auto release = std::make_shared<std::promise<void>>();
  auto done = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  std::future<void> finished = done->get_future();
  const auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(finish_within(50ms, [released, done] {
    // A close stuck in a library until the test lets it go (bounded, so that a
    // finish_within that waited for it fails the test instead of hanging it).
    released.wait_for(60s);
    done->set_value();
  }));
  CHECK(std::chrono::steady_clock::now() - started >= 50ms);
  CHECK(finished.wait_for(0s) == std::future_status::timeout);  // still stuck, not killed
  release->set_value();
  CHECK(finished.wait_for(10s) == std::future_status::ready);  // and it finishes on its own
}

TEST_CASE("a wait given up before the deadline abandons the work at once", "[listen]") {
  auto release = std::make_shared<std::promise<void>>();
  auto done = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  std::future<void> finished = done->get_future();
  int polls = 0;
  const auto started = std::chrono::steady_clock::now();
  // An open stuck in a library, and a stop request at the third poll: the daemon's SIGTERM.
  CHECK_FALSE(finish_within(
      60s,
      [released, done] {
        released.wait_for(60s);
        done->set_value();
      },
      10ms, [&polls] { return ++polls == 3; }));
  CHECK(polls == 3);
  CHECK(std::chrono::steady_clock::now() - started < 30s);  // not the 60 s deadline
  CHECK(finished.wait_for(0s) == std::future_status::timeout);
  release->set_value();
  CHECK(finished.wait_for(10s) == std::future_status::ready);
}

TEST_CASE("work that ends before anyone gives up is waited for as usual", "[listen]") {
  bool ran = false;
  CHECK(finish_within(
      10s, [&ran] { ran = true; }, 10ms, [] { return false; }));
  CHECK(ran);
}
