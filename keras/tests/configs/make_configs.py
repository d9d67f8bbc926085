"""Regenerates the Keras architectures used by kerust-keras's tests.

Run from anywhere with Keras 3 installed (any backend):

    python keras/tests/configs/make_configs.py

For each model it writes `<name>.json` (the model's `config.json`, as Keras stores it in a
`.keras` archive) and, for the models kerust supports, `<name>.expected.json`: each
layer's name, class, per-sample output shape and parameter count as Keras reports them.
It also saves `mlp.keras` and `cnn.keras`, two small complete archives (weights drawn from
a fixed seed). The files are committed; the tests never run Python.
"""

import json
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from keras import layers as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def seq(name, input_shape, layers):
    return keras.Sequential([keras.Input(input_shape)] + layers, name=name)


def supported():
    """Models made only of layers and options kerust supports."""
    yield seq("mlp", (8,), [
        L.Dense(16, activation="relu", name="hidden"),
        L.Dropout(0.25, name="drop"),
        L.Dense(3, activation="softmax", name="out"),
    ])
    yield seq("cnn", (12, 12, 1), [
        L.Conv2D(4, 3, activation="relu", name="conv"),
        L.MaxPooling2D(name="pool"),
        L.BatchNormalization(name="norm"),
        L.Flatten(name="flat"),
        L.Dense(5, name="logits"),
        L.Softmax(name="probs"),
    ])
    yield seq("conv_zoo", (16, 16, 3), [
        L.ZeroPadding2D(((1, 0), (2, 1)), name="pad"),
        L.Conv2D(8, (3, 2), strides=(2, 1), padding="same", use_bias=False, name="conv-strided"),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu6", name="depthwise"),
        L.SeparableConv2D(6, 3, dilation_rate=2, activation="gelu", name="separable"),
        L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, name="up_conv"),
        L.Cropping2D(((1, 2), (3, 0)), name="crop"),
        L.UpSampling2D((2, 1), interpolation="bilinear", name="upsample"),
        L.AveragePooling2D(3, strides=2, padding="same", name="avg"),
        L.LayerNormalization(epsilon=1e-5, center=False, name="ln"),
        L.GlobalMaxPooling2D(keepdims=True, name="gmax"),
        L.Reshape((-1,), name="reshape"),
        L.Dense(2, name="Output Layer"),
    ])
    yield seq("seq1d", (20, 3), [
        L.Conv1D(6, 3, padding="causal", dilation_rate=2, activation="tanh", name="causal"),
        L.Conv1D(5, 4, strides=2, name="strided"),
        L.MaxPooling1D(3, strides=1, padding="same", name="max1"),
        L.AveragePooling1D(2, name="avg1"),
        L.BatchNormalization(momentum=0.9, epsilon=1e-4, scale=False, name="bn"),
        L.GlobalAveragePooling1D(name="gap"),
        L.Reshape((5, 1), name="to_seq"),
        L.GlobalMaxPooling1D(keepdims=True, name="gmp1"),
        L.Flatten(name="flat"),
        L.Dense(4, activation="swish", name="dense"),
        L.LeakyReLU(negative_slope=0.1, name="leaky"),
        L.ELU(alpha=0.5, name="elu"),
        L.Activation("sigmoid", name="act"),
        L.ReLU(name="relu"),
    ])
    yield seq("gap2d", (6, 6, 2), [
        L.GlobalAveragePooling2D(name="gap"),
        L.Dense(3, activation=None, use_bias=False, name="dense"),
    ])
    # A functional model that is a chain: imported like a Sequential one.
    x = keras.Input((10,), name="features")
    h = L.Dense(6, activation="relu", name="h1")(x)
    h = L.Dropout(0.1, name="d1")(h)
    y = L.Dense(2, name="y")(h)
    yield keras.Model(x, y, name="functional_chain")


def unsupported():
    """Models kerust must refuse, each for one reason."""
    yield seq("lstm", (5, 3), [L.LSTM(4, name="rnn"), L.Dense(1, name="out")])
    yield seq("lambda", (4,), [L.Lambda(lambda t: t * 2.0, name="double"), L.Dense(1, name="out")])
    yield seq("channels_first", (3, 8, 8), [
        L.Conv2D(4, 3, data_format="channels_first", name="conv"),
    ])
    yield seq("groups", (8, 8, 4), [L.Conv2D(4, 3, groups=2, name="grouped")])
    yield seq("bfloat16", (4,), [L.Dense(2, dtype="bfloat16", name="half")])
    yield seq("relu_max_value", (4,), [L.ReLU(max_value=6.0, name="capped")])
    x = keras.Input((4,), name="x")
    a = L.Dense(3, name="a")(x)
    b = L.Dense(3, name="b")(x)
    yield keras.Model(x, L.Add(name="sum")([a, b]), name="branches")


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


def expected(model):
    out = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = list(layer.output.shape[1:])
        out.append({
            "name": layer.name,
            "class_name": layer.__class__.__name__,
            "output_shape": shape,
            "params": int(layer.count_params()),
        })
    return {"name": model.name, "input_shape": list(model.inputs[0].shape[1:]), "layers": out}


def config_of_saved(model, name):
    """Saves `model` as `<name>.keras` and returns the config.json it holds."""
    path = os.path.join(HERE, f"{name}.keras")
    model.save(path)
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def main():
    keras.utils.set_random_seed(7)
    for model in supported():
        if model.name in ("mlp", "cnn"):
            config = config_of_saved(model, model.name)
        else:
            config = json.loads(model.to_json())
        write_json(os.path.join(HERE, f"{model.name}.json"), config)
        write_json(os.path.join(HERE, f"{model.name}.expected.json"), expected(model))
    for model in unsupported():
        write_json(os.path.join(HERE, f"{model.name}.json"), json.loads(model.to_json()))


if __name__ == "__main__":
    main()
