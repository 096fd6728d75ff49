const byte LEVEL = 300
