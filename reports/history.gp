# A metric's median per run over time, a line per kernel.  Called as
# `gnuplot -c history.gp DATAFILE OUTFILE TITLE YLABEL TERM N`: call
# arguments are strings, never commands.  DATAFILE holds a block per kernel
# whose first row names it ("\"run\" \"kernel\""), then "run median" rows.
datafile = ARG1; outfile = ARG2; plottitle = ARG3; ylab = ARG4; term = ARG5; n = ARG6 + 0
if (term eq "png") { set terminal pngcairo size 900,380 noenhanced font 'sans,10' } else { set terminal svg size 900,380 dynamic noenhanced font 'sans,11' background '#ffffff' }
set output outfile
set title plottitle
set xlabel 'run'
set ylabel ylab
set grid lc rgb '#dddddd'
set yrange [0:*]
set key outside right
plot for [i=1:n] datafile index (i-1) using 1:2 with linespoints pt 7 ps 0.5 title columnheader(2)
