from setuptools import find_packages, setup

setup(
    name="gan-zoo",
    version="0.2.0",
    description="Generative adversarial networks as Keras 3 / TensorFlow models: train, evaluate, export, serve.",
    long_description=open("README.md").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    packages=find_packages(include=["zoo", "zoo.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.19",
        "keras>=3.8",
        "numpy",
        "scipy",
        "absl-py",
        "pillow",
        "h5py",
        "tensorboard",
        "tensorflow-datasets",
        "importlib_resources",  # tensorflow-datasets needs it to download
    ],
    extras_require={
        "test": ["pytest", "pytest-timeout", "pytest-xdist"],
    },
)
