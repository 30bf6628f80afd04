// Catch2's main, compiled once for every test executable. Catch returns the number of failed
// assertions, which could be 77, the status of a skipped test (support.hpp's skip()): so any
// failure exits with 1 here, and 77 means skipped and nothing else.
#if __has_include(<catch2/catch_session.hpp>)
#include <catch2/catch_session.hpp>  // Catch2 v3
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

int main(int argc, char* argv[]) {
    return Catch::Session().run(argc, argv) == 0 ? 0 : 1;
}
