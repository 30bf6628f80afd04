# The Fashion-MNIST example as a user runs it, checked from the outside:
#   cmake -DEXAMPLE=<binary> -DCASE=<case> -DWORK_DIR=<dir> -P run_fashion_mnist.cmake
# Cases: save_load (train briefly, save, reload, same test accuracy), deep (three hidden layers,
# --save and --export, --load with no architecture flag, then examples/predict on the saved
# model; PREDICT=<predict binary>), bad_data (a missing
# data directory), bad_model (a file that is not a model): the failures must end with a
# one-line error and a non-zero status, never a crash.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(quick --hidden 32 --epochs 1 --lr 0.05 --validation 2000 --threads 1 --quiet)

function(expect_clean_failure what)
  execute_process(COMMAND ${EXAMPLE} ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(STRIP "${err}" err)
  string(FIND "${err}" "\n" newline)
  if(status EQUAL 0 OR NOT status MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${what}: expected a non-zero exit status, got '${status}'")
  endif()
  if(NOT newline EQUAL -1 OR NOT err MATCHES "^fashion_mnist: error: .+")
    message(FATAL_ERROR "${what}: expected one line 'fashion_mnist: error: ...', got:\n${err}")
  endif()
  message(STATUS "${what}: ${err}")
endfunction()

if(CASE STREQUAL "save_load")
  execute_process(COMMAND ${EXAMPLE} ${quick} --save ${WORK_DIR}/model.bin
                  RESULT_VARIABLE status OUTPUT_VARIABLE trained)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "training failed (${status}):\n${trained}")
  endif()
  execute_process(COMMAND ${EXAMPLE} --hidden 32 --load ${WORK_DIR}/model.bin
                  RESULT_VARIABLE status OUTPUT_VARIABLE loaded)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "loading failed (${status}):\n${loaded}")
  endif()
  string(REGEX MATCH "test_accuracy=0\\.[0-9]+\n?$" a "${trained}")
  string(REGEX MATCH "test_accuracy=0\\.[0-9]+\n?$" b "${loaded}")
  if(a STREQUAL "" OR NOT a STREQUAL b)
    message(FATAL_ERROR "the reloaded model differs: trained '${a}', loaded '${b}'")
  endif()
  message(STATUS "trained and reloaded: ${b}")
elseif(CASE STREQUAL "deep")
  if(NOT DEFINED DATA)
    set(DATA /usr/share/datasets/fashion-mnist)
  endif()
  execute_process(COMMAND ${EXAMPLE} --hidden 24,16,12 --activation tanh --epochs 1 --lr 0.05 --validation 2000
                          --threads 1 --quiet --save ${WORK_DIR}/deep.model --export ${WORK_DIR}/deep.onnx
                  RESULT_VARIABLE status OUTPUT_VARIABLE trained)
  if(NOT status EQUAL 0 OR NOT trained MATCHES "network 784-24:tanh-16:tanh-12:tanh-10\n"
     OR NOT EXISTS ${WORK_DIR}/deep.onnx)
    message(FATAL_ERROR "training 3 hidden layers failed (${status}):\n${trained}")
  endif()
  execute_process(COMMAND ${EXAMPLE} --load ${WORK_DIR}/deep.model RESULT_VARIABLE status OUTPUT_VARIABLE loaded)
  string(REGEX MATCH "test_accuracy=0\\.[0-9]+\n?$" a "${trained}")
  string(REGEX MATCH "test_accuracy=0\\.[0-9]+\n?$" b "${loaded}")
  if(NOT status EQUAL 0 OR a STREQUAL "" OR NOT a STREQUAL b)
    message(FATAL_ERROR "--load without architecture flags: trained '${a}', loaded '${b}' (${status}):\n${loaded}")
  endif()
  execute_process(COMMAND ${PREDICT} ${WORK_DIR}/deep.model ${DATA}/t10k-images-idx3-ubyte.gz --limit 3
                  RESULT_VARIABLE status OUTPUT_VARIABLE predicted)
  if(NOT status EQUAL 0 OR NOT predicted MATCHES "input: raw pixels"
     OR NOT predicted MATCHES "\n2: class [0-9]  p( [01]\\.[0-9][0-9][0-9][0-9])+\n$")
    message(FATAL_ERROR "predict failed (${status}):\n${predicted}")
  endif()
  # The rows of a CSV file (a header, an id column to ignore, 784 pixels): one line each.
  string(REPEAT ",0.5" 784 row)
  file(WRITE ${WORK_DIR}/rows.csv "id${row}\n1${row}\n2${row}\n")
  execute_process(COMMAND ${PREDICT} ${WORK_DIR}/deep.model ${WORK_DIR}/rows.csv --ignore 0
                  RESULT_VARIABLE status OUTPUT_VARIABLE rows)
  if(NOT status EQUAL 0 OR NOT rows MATCHES "\n0: class [0-9]  p( [01]\\.[0-9]+)+\n1: class [0-9]  p( [01]\\.[0-9]+)+\n$")
    message(FATAL_ERROR "predict on CSV rows failed (${status}):\n${rows}")
  endif()
  # Rows of another width: one line naming both widths.
  file(WRITE ${WORK_DIR}/narrow.csv "1,2,3\n")
  execute_process(COMMAND ${PREDICT} ${WORK_DIR}/deep.model ${WORK_DIR}/narrow.csv
                  RESULT_VARIABLE status ERROR_VARIABLE err)
  if(status EQUAL 0 OR NOT err MATCHES "^predict: error: .*narrow.csv: samples of 3 features, the model takes 784\n$")
    message(FATAL_ERROR "predict on rows of 3 features: expected one error line, got (${status}):\n${err}")
  endif()
  message(STATUS "3 hidden layers, saved, exported, reloaded: ${b}; predict:\n${predicted}${rows}")
elseif(CASE STREQUAL "bad_data")
  expect_clean_failure("missing data" ${quick} --data ${WORK_DIR}/no-such-dir)
elseif(CASE STREQUAL "bad_model")
  file(WRITE ${WORK_DIR}/junk.bin "this is not a model")
  expect_clean_failure("not a model" --load ${WORK_DIR}/junk.bin)
  expect_clean_failure("unknown flag" --no-such-flag)
  expect_clean_failure("bad number" --epochs many)
else()
  message(FATAL_ERROR "unknown CASE ${CASE}")
endif()
