# Distribution per variant: a box per variant and every repetition as a
# point.  Called as `gnuplot -c box.gp DATAFILE OUTFILE TITLE YLABEL TERM N
# LABELS`: call arguments are strings, never commands.  DATAFILE holds one
# block per variant ("value" rows, blocks separated by two blank lines),
# LABELS one row per block ("i \"label\""), read as data for the x tics.
datafile = ARG1; outfile = ARG2; plottitle = ARG3; ylab = ARG4; term = ARG5; n = ARG6 + 0; labels = ARG7
if (term eq "png") { set terminal pngcairo size 900,420 noenhanced font 'sans,10' } else { set terminal svg size 900,420 dynamic noenhanced font 'sans,11' background '#ffffff' }
set output outfile
set title plottitle
set ylabel ylab
set grid ytics lc rgb '#dddddd'
set style fill solid 0.25 border -1
set style boxplot nooutliers
set boxwidth 0.5
set xrange [0.4:n+0.6]
set yrange [0:*]
set key off
# Variant names are long: slanted, they never run into each other.
set xtics rotate by 30 right
plot for [i=1:n] datafile index (i-1) using (i):1 with boxplot lc rgb '#4477aa', \
     for [i=1:n] datafile index (i-1) using (i + 0.18*(rand(0)-0.5)):1 with points pt 7 ps 0.6 lc rgb '#cc3311', \
     labels using 1:(NaN):xtic(2) with points
