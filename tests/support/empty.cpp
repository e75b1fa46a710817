// Keeps the test-support library non-empty before any *_helpers.cpp exists.
namespace earshot::testing {}
