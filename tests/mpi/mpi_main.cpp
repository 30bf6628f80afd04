// Catch2's main for the MPI tests: every rank runs every test, in the same order, inside
// one MPI environment; a failure on any rank makes mpirun exit non-zero.
#if __has_include(<catch2/catch_session.hpp>)
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include <descent/distributed/mpi.hpp>

int main(int argc, char** argv) {
    descent::mpi::Environment mpi(argc, argv);
    return Catch::Session().run(argc, argv);
}
