module.exports = require('./fixture-labs.cjs').stamp;
