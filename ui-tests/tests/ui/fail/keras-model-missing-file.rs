use kerust::keras_model;

keras_model!(pub struct Classifier = "models/classifier.keras");

fn main() {}
