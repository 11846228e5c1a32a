"""physics_baseline"""
