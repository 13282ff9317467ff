
BscaleJû±	Á