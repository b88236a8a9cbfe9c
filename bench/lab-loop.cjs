module.exports = require('./fixture-labs.cjs').loop;
