# train_csv saves a model and predicts with it from a second run: the saved network takes raw
# inputs (the standardisation is folded in) and a regression answers in the targets' units.
#   cmake -DEXAMPLE=… -DDATA=<sklearn data dir> -DWORK_DIR=… -P run_train_csv.cmake
foreach(file iris.csv breast_cancer.csv diabetes_data_raw.csv.gz diabetes_target.csv.gz)
  if(NOT EXISTS "${DATA}/${file}")
    message("skipped: ${DATA}/${file} not found (Debian's python3-sklearn ships it)")
    return()
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${EXAMPLE} ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "train_csv ${ARGN} ended with ${status}:\n${out}${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

# Binary, one sigmoid output: the class and P(y = 1 | x) of every row of the same layout.
run(${DATA}/breast_cancer.csv --save ${WORK_DIR}/cancer.model)
run(--load ${WORK_DIR}/cancer.model --predict ${DATA}/breast_cancer.csv)
if(NOT out MATCHES "row 569: class [01] p=0\\.[0-9]+\n$")
  message(FATAL_ERROR "expected 569 rows of a class and a probability, got:\n${out}")
endif()

# Three classes, predicted in the run that trains: a distribution over 3 classes per row.
run(${DATA}/iris.csv --predict ${DATA}/iris.csv)
if(NOT out MATCHES "row 1: class 0 p=[01]\\.[0-9]+,[01]\\.[0-9]+,[01]\\.[0-9]+\n")
  message(FATAL_ERROR "expected the first iris (class 0) with 3 probabilities, got:\n${out}")
endif()

# Regression from a features-only file: values in the targets' units (25 to 346), not the
# standardised ones (about -2 to 3).
run(${DATA}/diabetes_data_raw.csv.gz --delimiter space --targets ${DATA}/diabetes_target.csv.gz
    --save ${WORK_DIR}/diabetes.model)
run(--load ${WORK_DIR}/diabetes.model --predict ${DATA}/diabetes_data_raw.csv.gz --delimiter space)
if(NOT out MATCHES "row 1: ([0-9]+)\\.[0-9]+\n")
  message(FATAL_ERROR "expected a value for row 1, got:\n${out}")
endif()
if(CMAKE_MATCH_1 LESS 25 OR CMAKE_MATCH_1 GREATER 346)
  message(FATAL_ERROR "row 1 predicted ${CMAKE_MATCH_1}, outside the targets' range 25..346")
endif()
message("${out}")
