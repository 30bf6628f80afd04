// descent/distributed/mpi.hpp, on 2 ranks: the collective operations give every rank the
// same, right values, and agree() makes every rank throw when one failed, with that rank's
// message. (abort_on_failure ending the job is failing_rank.cpp's, run by failing_rank.cmake.)
#include <descent/distributed/mpi.hpp>
#include <descent/error.hpp>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::mpi::Communicator;

TEST_CASE("the tests run on 2 ranks", "[mpi]") {
    const Communicator world;
    REQUIRE(world.size() == 2);
    CHECK((world.rank() == 0 || world.rank() == 1));
    std::vector<int> ranks{world.rank()};
    world.sum(std::span(ranks));
    CHECK(ranks == std::vector<int>{1});
}

TEMPLATE_TEST_CASE("sum adds every rank's values, in place, on every rank", "[mpi]", float, double) {
    const Communicator world;
    const auto r = static_cast<TestType>(world.rank());
    // Rank r holds (r + 1, 10(r + 1), 0.25 - r): the sums are 3, 30, -0.5 exactly.
    std::vector<TestType> v{r + 1, 10 * (r + 1), TestType(0.25) - r};
    world.sum(std::span(v));
    CHECK(v == std::vector<TestType>{3, 30, TestType(-0.5)});
}

TEST_CASE("sum of values that round gives every rank the same bits", "[mpi]") {
    const Communicator world;
    const auto m = descent::test::pseudo_random<double>(1000, 1, static_cast<unsigned>(world.rank()));
    std::vector<double> v(m.data(), m.data() + m.size());
    world.sum(std::span(v));
    std::vector<double> rank0 = v;
    world.broadcast(std::span(rank0), 0);
    CHECK(rank0 == v);
}

TEST_CASE("broadcast copies the root's values to every rank", "[mpi]") {
    const Communicator world;
    for (int root = 0; root < world.size(); ++root) {
        std::vector<double> v{static_cast<double>(world.rank()), 7.5};
        world.broadcast(std::span(v), root);
        CHECK(v == std::vector<double>{static_cast<double>(root), 7.5});
    }
}

TEST_CASE("min and max over the ranks", "[mpi]") {
    const Communicator world;
    CHECK(world.min(10 + world.rank()) == 10);
    CHECK(world.max(10 + world.rank()) == 10 + world.size() - 1);
    CHECK(world.min(std::uint64_t{1} << (40 + world.rank())) == std::uint64_t{1} << 40);
}

TEST_CASE("agree returns when no rank failed", "[mpi]") {
    const Communicator world;
    CHECK_NOTHROW(descent::mpi::agree(world, nullptr, "test"));
}

TEST_CASE("agree: the failing rank rethrows its own error, the others throw distributed_error with its message",
          "[mpi]") {
    const Communicator world;
    std::exception_ptr failure;
    if (world.rank() == 1) failure = std::make_exception_ptr(descent::label_error("label 10 at row 5 is outside [0, 10)"));
    if (world.rank() == 1) {
        CHECK_THROWS_AS(descent::mpi::agree(world, failure, "load"), descent::label_error);
    } else {
        CHECK_THROWS_WITH(descent::mpi::agree(world, failure, "load"),
                          Contains("load: rank 1: label 10 at row 5 is outside [0, 10)"));
    }
    // The ranks are in step again: the next collective call pairs up.
    CHECK(world.max(world.rank()) == 1);
}

TEST_CASE("agree: every rank that failed throws its own error", "[mpi]") {
    const Communicator world;
    const auto failure =
        std::make_exception_ptr(descent::io_error("cannot open shard-" + std::to_string(world.rank()) + ".csv"));
    CHECK_THROWS_AS(descent::mpi::agree(world, failure, "load"), descent::io_error);
    CHECK_THROWS_WITH(descent::mpi::agree(world, failure, "load"),
                      "cannot open shard-" + std::to_string(world.rank()) + ".csv");
}

TEST_CASE("agree: the ranks that did not fail get the lowest failing rank's message", "[mpi]") {
    // With 2 ranks, one fails: rank 1 hears of rank 0, and then rank 0 of rank 1.
    const Communicator world;
    for (int failing = 0; failing < world.size(); ++failing) {
        std::exception_ptr failure;
        if (world.rank() == failing) failure = std::make_exception_ptr(descent::io_error("disk full"));
        if (world.rank() == failing)
            CHECK_THROWS_AS(descent::mpi::agree(world, failure, "save"), descent::io_error);
        else
            CHECK_THROWS_WITH(descent::mpi::agree(world, failure, "save"),
                              "save: rank " + std::to_string(failing) + ": disk full");
    }
}

TEST_CASE("abort_on_failure returns the body's value when it does not throw", "[mpi]") {
    const Communicator world;
    CHECK(descent::mpi::abort_on_failure(world, [&] { return world.rank() + 40; }) == world.rank() + 40);
}
