"""rl-zoo3 config: td3 hyperparameters from agents/hyperparams/td3.toml."""

from exgen.agents.zoo import zoo_hyperparameters

hyperparams = zoo_hyperparameters("td3")
