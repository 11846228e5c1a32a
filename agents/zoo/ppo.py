"""rl-zoo3 config: ppo hyperparameters from agents/hyperparams/ppo.toml."""

from agents.zoo import zoo_hyperparameters

hyperparams = zoo_hyperparameters("ppo")
