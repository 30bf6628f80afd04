#pragma once
// MPI, as descent's data-parallel training uses it (distributed/fit.hpp): the job's
// processes (ranks), the few collective operations training needs on θ and ∇θ, and one
// rule for failures. A collective call returns only once every rank has made it, so a
// rank that throws and leaves would leave the others waiting for ever; a failure that
// only some ranks meet must therefore end the whole job (MPI_Abort) with a message that
// says which rank failed and why.
//
// Optional: only code that includes this header needs MPI. In CMake, DESCENT_MPI=ON builds
// the target descent::mpi (descent::descent plus MPI); the rest of descent never includes it.
//
//   int main(int argc, char** argv) {
//       descent::mpi::Environment mpi(argc, argv);
//       descent::mpi::Communicator world;
//       return descent::mpi::abort_on_failure(world, [&] { ...; return 0; });
//   }
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../error.hpp"

namespace descent::mpi {

// The MPI type of a C++ arithmetic type.
template <class T>
MPI_Datatype datatype() {
    if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    else if constexpr (std::is_same_v<T, int>) return MPI_INT;
    else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
    else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
    else static_assert(sizeof(T) == 0, "descent::mpi::datatype: no MPI type for this C++ type");
}

// MPI for the life of the object: MPI_Init on construction, MPI_Finalize on destruction.
// MPI is asked for MPI_THREAD_FUNNELED: the matrix products may run on several threads
// (threads.hpp), but only the thread that made the Environment calls MPI.
// requires: at most one per process, made on the main thread before any other MPI call.
// throws: distributed_error when MPI was initialised already or gives less than FUNNELED.
class Environment {
public:
    Environment(int& argc, char**& argv) {
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (initialized) throw distributed_error("mpi::Environment: MPI was initialised already");
        int provided = MPI_THREAD_SINGLE;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        if (provided < MPI_THREAD_FUNNELED) {
            MPI_Finalize();
            throw distributed_error(
                "mpi::Environment: this MPI does not allow threads beside the one calling MPI "
                "(MPI_THREAD_FUNNELED), which descent's threaded matrix products need");
        }
    }
    ~Environment() { MPI_Finalize(); }
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
};

// A group of ranks (MPI_COMM_WORLD unless told), with the collective operations of training.
// Every collective operation must be called by every rank of the group, in the same order and
// with the same sizes; MPI's own errors end the job (MPI_ERRORS_ARE_FATAL, MPI's default).
class Communicator {
public:
    explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
    }

    int rank() const { return rank_; }  // in [0, size())
    int size() const { return size_; }
    MPI_Comm handle() const { return comm_; }

    // values ← Σ over the ranks of values, on every rank, in place (MPI_Allreduce): one call
    // unless values holds more than INT_MAX elements (MPI counts are int).
    // ensures: every rank holds the same sum, bit for bit (with 2 ranks, a + b = b + a exactly;
    //          beyond, the MPI standard advises it and Open MPI reduces each element once).
    template <class T>
    void sum(std::span<T> values) const {
        for (std::size_t first = 0; first < values.size(); first += chunk) {
            const std::size_t count = std::min(chunk, values.size() - first);
            MPI_Allreduce(MPI_IN_PLACE, values.data() + first, static_cast<int>(count), datatype<T>(), MPI_SUM,
                          comm_);
        }
    }

    // values ← root's values, on every rank (MPI_Bcast).
    template <class T>
    void broadcast(std::span<T> values, int root = 0) const {
        for (std::size_t first = 0; first < values.size(); first += chunk) {
            const std::size_t count = std::min(chunk, values.size() - first);
            MPI_Bcast(values.data() + first, static_cast<int>(count), datatype<T>(), root, comm_);
        }
    }

    // The smallest and the largest of every rank's value, on every rank.
    template <class T>
    T min(T value) const {
        MPI_Allreduce(MPI_IN_PLACE, &value, 1, datatype<T>(), MPI_MIN, comm_);
        return value;
    }
    template <class T>
    T max(T value) const {
        MPI_Allreduce(MPI_IN_PLACE, &value, 1, datatype<T>(), MPI_MAX, comm_);
        return value;
    }

    void barrier() const { MPI_Barrier(comm_); }

    // Ends every rank of the group: prints "rank R: <what>" on stderr, then MPI_Abort.
    [[noreturn]] void abort(std::string_view what, int code = 1) const noexcept {
        std::fprintf(stderr, "rank %d: %.*s\n", rank_, static_cast<int>(what.size()), what.data());
        std::fflush(stderr);
        MPI_Abort(comm_, code);
        std::terminate();  // MPI_Abort does not return; should an MPI let it, end here
    }

private:
    static constexpr std::size_t chunk = INT_MAX;

    MPI_Comm comm_;
    int rank_ = 0;
    int size_ = 1;
};

// The message of the exception being handled (inside a catch block).
inline std::string current_message() {
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

// Runs body() and returns what it returns. When it throws, on this rank alone or not, the
// whole job ends (Communicator::abort): "rank R: <what>" on stderr, every rank stopped, and
// mpirun exits non-zero. For code that ranks run in step, between collective calls: main's
// body, or one rank's part of an algorithm.
template <class Body>
decltype(auto) abort_on_failure(const Communicator& comm, Body&& body) {
    try {
        return std::forward<Body>(body)();
    } catch (...) {
        comm.abort(current_message());
    }
}

// Collective: makes every rank agree on whether all of them succeeded at something that
// each did alone (checking its input, opening its file). Every rank passes the exception it
// met, or nullptr. When some rank failed, every rank throws: a rank that failed its own
// exception, the others distributed_error("<where>: rank R: <message>") with the message of
// R, the lowest rank that failed. Nobody is left waiting, and nothing need be aborted; a
// check that fails alike everywhere (a bad option) throws its own error on every rank. Costs one all-reduce of an int when
// all is well, two broadcasts more otherwise.
inline void agree(const Communicator& comm, std::exception_ptr failure, std::string_view where) {
    const int failed = comm.min(failure ? comm.rank() : comm.size());
    if (failed == comm.size()) return;
    std::string message;
    if (comm.rank() == failed) {
        try {
            std::rethrow_exception(failure);
        } catch (...) {
            message = current_message();
        }
    }
    int length = static_cast<int>(message.size());
    comm.broadcast(std::span(&length, 1), failed);
    message.resize(static_cast<std::size_t>(length));
    comm.broadcast(std::span(message.data(), message.size()), failed);
    if (failure) std::rethrow_exception(failure);
    throw distributed_error(std::string(where) + ": rank " + std::to_string(failed) + ": " + message);
}

}  // namespace descent::mpi
