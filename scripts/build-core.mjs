// placeholder until this build step lands
console.error("build-core: nothing to build yet");
