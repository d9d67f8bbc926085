use kerust::keras_model;

// An LSTM followed by a Dense layer, as Keras 3 saves it.
keras_model!(struct Forecast = "keras-lstm.json");

fn main() {}
