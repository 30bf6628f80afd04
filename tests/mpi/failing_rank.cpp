// One rank fails while the other waits for it in a collective call. Without
// abort_on_failure the waiting rank would hang until killed; with it, the job ends at
// once with "rank 1: <what>" and a non-zero exit. failing_rank.cmake runs the cases:
//   guard     rank 1 throws in main's body, rank 0 waits in a barrier
//   fit_hook  rank 1's on_epoch throws during mpi::fit, rank 0 goes on to the next step's all-reduce
//   none      nobody fails: the job ends normally (the control)
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/distributed/fit.hpp>
#include <descent/distributed/mpi.hpp>
#include <descent/error.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/sgd.hpp>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
    descent::mpi::Environment mpi(argc, argv);
    const descent::mpi::Communicator world;
    const std::string_view which = argc > 1 ? argv[1] : "none";
    return descent::mpi::abort_on_failure(world, [&] {
        if (which == "guard") {
            if (world.rank() == 1) throw descent::data_error("shard-1.idx is truncated at byte 4096");
            world.barrier();
        } else if (which == "fit_hook") {
            using Net = descent::Mlp<descent::Dense<descent::Tanh, double>, descent::Dense<descent::Identity, double>>;
            Net net({2, 4, 2}, 1);
            Eigen::MatrixXd x(2, 8);
            x << 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1;
            const std::vector<int> y{0, 1, 1, 0, 0, 1, 1, 0};
            descent::Sgd<> sgd(0.1);
            descent::FitOptions options;
            options.epochs = 1000;
            options.batch_size = 2;
            options.on_epoch = [&](const descent::EpochReport& report) {
                if (world.rank() == 1 && report.epoch == 1)
                    throw descent::io_error("cannot write curves.csv: no space left on device");
            };
            descent::mpi::fit(world, net, sgd, x, y, options);
        }
        return 0;
    });
}
