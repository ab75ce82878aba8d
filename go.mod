module github.com/messtrack/messtrack

go 1.26
