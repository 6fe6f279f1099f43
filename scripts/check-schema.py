#!/usr/bin/env python3
"""Checks workflow files against switchboard's JSON Schema with an independent validator.

usage: check-schema.py SCHEMA.json WORKFLOW.yaml...   (exit 0 all conform, 1 some do not)
"""
import json
import sys

import jsonschema
import yaml

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failed = False
for path in sys.argv[2:]:
    with open(path) as handle:
        document = yaml.safe_load(handle)
    for error in validator.iter_errors(document):
        failed = True
        print(f"{path}: {error.json_path}: {error.message}")
sys.exit(1 if failed else 0)
