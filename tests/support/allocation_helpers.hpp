// Test support: a count of heap allocations made through operator new, so a test can show
// that a warm streaming path allocates nothing. Linking a test that calls
// heap_allocations() replaces the global operator new and delete of that executable.
#pragma once

namespace earshot::testing {

// operator new calls (every form) since the program started, in all threads.
long heap_allocations();

}  // namespace earshot::testing
