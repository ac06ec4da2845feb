// Compile-fail test (ctest event_input_rejects_temporaries, tests/compile_fail/run.sh): assigning
// a temporary std::string to a byte field of EventInput must not compile (the string would die at
// the semicolon and the append would read freed memory). Built once with -DSESSIONRING_CONTROL
// (the zero-copy uses that must keep compiling) and once per field with -DFIELD=<name> (must fail).
#include <sessionring/event_input.hpp>

#include <string>
#include <string_view>

int main() {
  sessionring::EventInput e;
#ifdef SESSIONRING_CONTROL
  std::string owned(300, 'a');
  e.data = owned;                        // an lvalue string: a view of it (zero copy)
  e.metadata = std::string_view(owned);  // an explicit view
  e.run_id = "r1";                       // a literal
  const char* c = "corr";
  e.correlation_id = c;
  e.provider = e.run_id;
  e.id = std::string_view();
  std::string_view v = e.data;
  return static_cast<int>(v.size() % 2 + (e.run_id == "r1" ? 0 : 1));
#else
  e.FIELD = std::string(300, 'a');  // must not compile
  return static_cast<int>(e.FIELD.size() % 2);
#endif
}
