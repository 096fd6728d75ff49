const string PATH = "C:\temp\quotes"
