Bextj
locationext.binp