
*€x€€ÿ÷æ\Btyped_float16