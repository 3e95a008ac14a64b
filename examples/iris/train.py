"""Train a small classifier on the iris data set (shipped inside scikit-learn, so no download) and report accuracy.

Run it as an experiment: right-click > "Run as Experiment" in VS Code, or `mlw run iris/train.py` from examples/.
Its params and accuracy are logged with the `mlw` module and show up in the run record (`mlw runs show <id>`).
Anything written to the outputs folder ($MLW_OUTPUTS, or ./outputs) is kept with the run.
"""
import argparse
import json
import os

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

try:  # the tracking module ML Workbench mounts into every run; optional elsewhere
    import mlw
except ImportError:
    mlw = None

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
parser.add_argument("--test-size", type=float, default=0.3)
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=args.test_size, random_state=args.seed, stratify=y
)
print(f"training LogisticRegression(C={args.C}) on {len(X_train)} samples, testing on {len(X_test)}")
if mlw:
    mlw.log_params({"C": args.C, "test_size": args.test_size, "seed": args.seed})

model = LogisticRegression(C=args.C, max_iter=500)
model.fit(X_train, y_train)
accuracy = accuracy_score(y_test, model.predict(X_test))
print(f"accuracy: {accuracy:.4f}")
if mlw:
    mlw.log_metric("accuracy", accuracy, goal="max")

outputs = os.environ.get("MLW_OUTPUTS", "outputs")
os.makedirs(outputs, exist_ok=True)
joblib.dump(model, os.path.join(outputs, "model.joblib"))
with open(os.path.join(outputs, "metrics.json"), "w") as f:
    json.dump({"accuracy": accuracy, "C": args.C}, f)
print(f"saved model to {outputs}/model.joblib")
