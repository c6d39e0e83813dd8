// placeholder while the tree is being laid out
