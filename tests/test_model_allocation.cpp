// ModelStream::push allocates nothing: every buffer is sized when the stream is made.
//
// This file replaces malloc, in the whole test_model executable, with a counting wrapper
// around glibc's own allocator (Eigen allocates through malloc, not operator new); it counts
// only while its own flag is set. Sanitizers interpose malloc themselves, so under them the
// check is skipped.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "earshot/model.hpp"
#include "earshot/train_network.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EARSHOT_COUNT_MALLOC 0
#else
#define EARSHOT_COUNT_MALLOC 1
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

#if EARSHOT_COUNT_MALLOC
extern "C" void* __libc_malloc(std::size_t size);
extern "C" void* malloc(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  return __libc_malloc(size);
}
#endif

#if EARSHOT_COUNT_MALLOC
TEST_CASE("streaming push allocates no memory", "[model]") {
  earshot::ModelMetadata metadata;
  metadata.shape.feature_dim = metadata.frontend.feature_dim();
  metadata.shape.conv_filters = 32;
  metadata.shape.conv_kernel = 5;
  metadata.shape.conv_stride = 4;
  metadata.shape.gru_sizes = {24, 16};
  metadata.feature_mean.assign(metadata.shape.feature_dim, 0.0f);
  metadata.feature_std.assign(metadata.shape.feature_dim, 1.0f);
  const earshot::train::NetworkLayout layout(metadata.shape);
  earshot::train::BatchNormRunningStats running;
  running.reset(32);
  const auto model = std::make_shared<const earshot::Model>(earshot::train::export_model(
      layout, earshot::train::initial_parameters<float>(layout, 1), running, metadata));
  earshot::ModelStream stream(model);
  std::vector<float> frame(static_cast<std::size_t>(model->feature_dim()), 0.5f);

  // Sanity check of the counter itself.
  counting = true;
  void* volatile probe = malloc(64);  // volatile: the compiler may not elide the pair
  counting = false;
  free(probe);
  REQUIRE(allocations.load() == 1);

  allocations = 0;
  int outputs = 0;
  counting = true;
  for (int i = 0; i < 1000; ++i)
    outputs += stream.push(frame).has_value();
  stream.reset();
  for (int i = 0; i < 100; ++i)
    outputs += stream.push(frame).has_value();
  counting = false;
  CHECK(outputs == 249 + 24);
  CHECK(allocations.load() == 0);

  // An ensemble's stream keeps every member's state: still nothing allocated per frame.
  const auto ensemble = std::make_shared<const earshot::Model>(
      model->metadata(),
      std::vector<earshot::ModelWeights>{model->members().front(), model->members().front()});
  earshot::ModelStream ensemble_stream(ensemble);
  allocations = 0;
  outputs = 0;
  counting = true;
  for (int i = 0; i < 1000; ++i)
    outputs += ensemble_stream.push(frame).has_value();
  counting = false;
  CHECK(outputs == 249);
  CHECK(allocations.load() == 0);
}
#endif
