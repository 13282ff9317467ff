
BscaleJ&¯/,æ¼ß,o=