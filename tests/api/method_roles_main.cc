// Prints the README's table of roles per method, from the .proto options.
#include <iostream>

#include "tests/api/method_roles.h"

int main() {
  std::cout << smz::MethodRolesMarkdown();
  return 0;
}
