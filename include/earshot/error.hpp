// Errors the library reports to its callers.
//
// Library code never aborts on bad input: it throws earshot::Error with a message a user
// can act on ("model file 'x.earshot' is truncated: expected 81920 bytes, found 4096").
// The command-line front ends catch it, print it, and turn it into an exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace earshot {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace earshot
