# Plots the learning curves that fashion_mnist --log writes:
#   gnuplot -e "csv='curves.csv'; png='curves.png'" examples/plot_learning_curves.gp
set datafile separator ','
set terminal pngcairo size 1000,420 font ',10'
set output png
set multiplot layout 1,2 title 'Fashion-MNIST learning curves'
set xlabel 'epoch'
set key top right
set title 'loss'
plot csv using 'epoch':'loss' with linespoints title 'training (l + λΩ)', \
     csv using 'epoch':'val_loss' with linespoints title 'validation (l)'
set title 'accuracy'
set key bottom right
plot csv using 'epoch':'train_acc' with linespoints title 'training', \
     csv using 'epoch':'val_acc' with linespoints title 'validation'
unset multiplot
