# Distribution per variant: a box per variant and every repetition as a
# point.  Variables: datafile (one block per variant, "value" rows,
# blocks separated by two blank lines), n (blocks), xt (xtics list),
# outfile, plottitle, ylab, term ("svg" or "png").
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
eval('set xtics ('.xt.')')
set key off
plot for [i=1:n] datafile index (i-1) using (i):1 with boxplot lc rgb '#4477aa', \
     for [i=1:n] datafile index (i-1) using (i + 0.18*(rand(0)-0.5)):1 with points pt 7 ps 0.6 lc rgb '#cc3311'
