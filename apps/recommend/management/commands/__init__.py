"""``evaluate_recommender`` (and, with the database glue, ``train_recommender``)."""
