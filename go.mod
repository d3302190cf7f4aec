module github.com/start-ecs/start-ecs

go 1.26.8
