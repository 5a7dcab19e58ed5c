package main

import "net/url"

type urlT = url.URL
