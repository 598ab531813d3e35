# One counter, its median per variant as bars.  Called as `gnuplot -c
# bars.gp DATAFILE OUTFILE TITLE YLABEL TERM`: call arguments are strings,
# never commands.  DATAFILE holds "\"label\" value" rows.
datafile = ARG1; outfile = ARG2; plottitle = ARG3; ylab = ARG4; term = ARG5
if (term eq "png") { set terminal pngcairo size 900,320 noenhanced font 'sans,10' } else { set terminal svg size 900,320 dynamic noenhanced font 'sans,11' background '#ffffff' }
set output outfile
set title plottitle
set ylabel ylab
set grid ytics lc rgb '#dddddd'
set style fill solid 0.6 border -1
set boxwidth 0.5
set yrange [0:*]
set key off
# Slanted names never run into each other; room above the tallest bar
# keeps its value label inside the frame.
set xtics rotate by 30 right
set offsets 0.5, 0.5, graph 0.15, 0
plot datafile using 0:2:xtic(1) with boxes lc rgb '#228833', \
     '' using 0:2:(sprintf('%.0f', $2)) with labels offset 0,0.7
