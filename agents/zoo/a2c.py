"""rl-zoo3 config: a2c hyperparameters from agents/hyperparams/a2c.toml."""

from exgen.agents.zoo import zoo_hyperparameters

hyperparams = zoo_hyperparameters("a2c")
