"""rl-zoo3 config: dqn hyperparameters from agents/hyperparams/dqn.toml."""

from exgen.agents.zoo import zoo_hyperparameters

hyperparams = zoo_hyperparameters("dqn")
