"""A first look at the engine: build a small expression, backpropagate, print gradients."""

from micrograd_like import MLP, Value


def main() -> None:
    x = Value(1.0, label="x")
    w = Value(-2.0, label="w")
    b = Value(0.5, label="b")
    y = (x * w + b).tanh()
    y.backward()
    print(f"y = tanh(x*w + b) = {y.data:.4f}")
    for v in (x, w, b):
        print(f"  dy/d{v.label} = {v.grad:.4f}")

    model = MLP(2, [4, 4, 1], seed=0)
    out = model([0.5, -1.0])
    out.backward()
    print(f"MLP(2, [4, 4, 1]) output {out.data:.4f}, {len(model.parameters())} parameters")


if __name__ == "__main__":
    main()
