"""Kestra plugin families beyond core (serdes, notifications, JDBC...): one module per format or service.

Part of the tasks layer: modules here reach the engine only through `TaskContext`.
"""
