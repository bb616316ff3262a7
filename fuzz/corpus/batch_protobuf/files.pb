
w3W
modelN:L
@ababababababababababababababababababababababababababababababababmodel.ptW
eval/img:KI
@ababababababababababababababababababababababababababababababababa.pngX
	artifactsBK
I
@ababababababababababababababababababababababababababababababababb.txt
labels2
a
b
when	(€€ùÀÁÄ‚
sys/tags"
old