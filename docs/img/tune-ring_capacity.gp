set title 'sessionring tune: ring_capacity (P=2, S=2, 64 B)'
set xlabel 'ring_capacity'
set ylabel 'M events/s (median, min-max)'
set y2label 'p99 emit-deliver at 100000 ev/s (us)'
set ytics nomirror
set y2tics
set yrange [0:*]
set logscale y2
set grid
set key outside top center horizontal
set xrange [-0.5:4.5]
set boxwidth 0.5
set style fill solid 0.4
set terminal pngcairo size 800,500 noenhanced
set output 'docs/img/tune-ring_capacity.png'
plot 'docs/img/tune-ring_capacity.dat' using 1:3:xtic(2) with boxes title 'throughput', '' using 1:3:4:5 with yerrorbars lc rgb 'black' notitle, '' using 1:6 axes x1y2 with linespoints lw 2 pt 7 title 'p99'
set terminal svg size 800,500 noenhanced
set output 'docs/img/tune-ring_capacity.svg'
plot 'docs/img/tune-ring_capacity.dat' using 1:3:xtic(2) with boxes title 'throughput', '' using 1:3:4:5 with yerrorbars lc rgb 'black' notitle, '' using 1:6 axes x1y2 with linespoints lw 2 pt 7 title 'p99'
