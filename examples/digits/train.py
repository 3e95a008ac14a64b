"""Classify the handwritten digits data set (shipped inside scikit-learn, so no download) and save a confusion
matrix picture, which Run details shows inline next to the run's metrics.

Run it as an experiment: right-click > "Run as Experiment" in VS Code, or `mlw run digits/train.py` from examples/.
The loss of each training epoch is logged with `mlw`, so Run details draws its chart; outputs/confusion.png and
outputs/per_class.csv are previewed there too.
"""
import argparse
import csv
import os

os.environ.setdefault("MPLBACKEND", "Agg")  # no display in a container

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, log_loss, precision_recall_fscore_support  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

try:  # the tracking module ML Workbench mounts into every run; optional elsewhere
    import mlw
except ImportError:
    mlw = None

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--alpha", type=float, default=1e-4, help="regularisation strength")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=args.seed, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
if mlw:
    mlw.log_params({"epochs": args.epochs, "alpha": args.alpha, "seed": args.seed})

model = SGDClassifier(loss="log_loss", alpha=args.alpha, random_state=args.seed)
classes = sorted(set(y))
for epoch in range(args.epochs):
    model.partial_fit(X_train, y_train, classes=classes)
    loss = log_loss(y_test, model.predict_proba(X_test), labels=classes)
    print(f"epoch {epoch}: test loss {loss:.4f}")
    if mlw:
        mlw.log_metric("loss", loss, step=epoch)

predicted = model.predict(X_test)
accuracy = accuracy_score(y_test, predicted)
print(f"accuracy: {accuracy:.4f}")
if mlw:
    mlw.log_metric("accuracy", accuracy, goal="max")

outputs = os.environ.get("MLW_OUTPUTS", "outputs")
os.makedirs(outputs, exist_ok=True)
fig, ax = plt.subplots(figsize=(5, 5), dpi=80)
ConfusionMatrixDisplay.from_predictions(y_test, predicted, ax=ax, colorbar=False)
ax.set_title(f"digits, accuracy {accuracy:.3f}")
fig.tight_layout()
fig.savefig(os.path.join(outputs, "confusion.png"))
precision, recall, f1, support = precision_recall_fscore_support(y_test, predicted, labels=classes)
with open(os.path.join(outputs, "per_class.csv"), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["digit", "precision", "recall", "f1", "support"])
    for row in zip(classes, precision, recall, f1, support):
        writer.writerow([row[0], *(f"{v:.3f}" for v in row[1:4]), row[4]])
print(f"saved {outputs}/confusion.png and {outputs}/per_class.csv")
