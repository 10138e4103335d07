print("graphsmith")
