#include "allocation_helpers.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

// Every non-aligned form is replaced, so new and delete always pair up (sanitizers check
// that). The aligned forms keep the library's own pair.
namespace {
std::atomic<long> g_heap_allocations{0};

// Out of line so GCC does not inline free() next to a new-expression and warn of a mismatch.
[[gnu::noinline]] void* counted_malloc(std::size_t size) noexcept {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
[[gnu::noinline]] void counted_free(void* p) noexcept {
  std::free(p);
}
void* counted_malloc_or_throw(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
}  // namespace

namespace earshot::testing {
long heap_allocations() {
  return g_heap_allocations.load(std::memory_order_relaxed);
}
}  // namespace earshot::testing

void* operator new(std::size_t size) {
  return counted_malloc_or_throw(size);
}
void* operator new[](std::size_t size) {
  return counted_malloc_or_throw(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void operator delete(void* p) noexcept {
  counted_free(p);
}
void operator delete[](void* p) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  counted_free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  counted_free(p);
}
