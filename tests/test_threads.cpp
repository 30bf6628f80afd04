// set_threads / threads: one count for descent's pool and Eigen's own products.
#include <descent/detail/thread_pool.hpp>
#include <descent/threads.hpp>

#include "support.hpp"

TEST_CASE("set_threads sets the count that threads() reports", "[threads]") {
    const int before = descent::threads();
    REQUIRE(before >= 1);
    descent::set_threads(1);
    CHECK(descent::threads() == 1);
    descent::set_threads(3);
    CHECK(descent::threads() == 3);
    CHECK(descent::detail::global_pool()->workers() == 2);  // the caller is the third
#ifdef EIGEN_HAS_OPENMP
    CHECK(Eigen::nbThreads() == 3);
#endif
    descent::set_threads(before);
    CHECK(descent::threads() == before);
}

TEST_CASE("set_threads rejects a count below 1, naming it", "[threads]") {
    const int before = descent::threads();
    CHECK_THROWS_AS(descent::set_threads(0), descent::argument_error);
    CHECK_THROWS_WITH(descent::set_threads(-2),
                      Catch::Matchers::Contains("-2") && Catch::Matchers::Contains("set_threads"));
    CHECK(descent::threads() == before);  // a refused count changes nothing
}
