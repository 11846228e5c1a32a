"""rl-zoo3 config: ppo hyperparameters from agents/hyperparams/ppo.toml."""

from exgen.agents.zoo import zoo_hyperparameters

hyperparams = zoo_hyperparameters("ppo")
