
BscaleJF·ï»