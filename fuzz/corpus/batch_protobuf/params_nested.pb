
w1S
paramsIJG

lr		{®Gáz„?

epochs

	
amp

optimJ

name"adam
sys/tags
resnet
baseline
	sys/state"	succeeded